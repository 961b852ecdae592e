import { defineConfig } from 'vitest/config';

// Three tiers (docs/architecture.md): unit = pure code, host = host effects without a guest,
// guest = real UML kernels. No retries: a flaky test is a bug to fix, not to hide.
export default defineConfig({
  test: {
    retry: 0,
    // Guest files boot real kernels: two at a time on this 2-core host. (One value for every project:
    // vitest refuses projects with different worker counts in one run.)
    maxWorkers: 2,
    projects: [
      { test: { name: 'unit', include: ['src/**/*.test.ts'], testTimeout: 60_000 } },
      { test: { name: 'host', include: ['test/host/**/*.test.ts'], testTimeout: 60_000 } },
      {
        test: {
          name: 'guest',
          include: ['test/guest/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: true,
          globalSetup: ['test/guest/global-setup.ts'],
        },
      },
      // Kernel builds (8-10 min each when not cached): only `npm run test:kernel`, never the default suite.
      ...(process.env.UMLKIT_TEST_KERNEL === '1'
        ? [
            {
              test: {
                name: 'kernel',
                include: ['test/kernel/**/*.kernel.test.ts'],
                testTimeout: 3_600_000,
                hookTimeout: 3_600_000,
                fileParallelism: false,
                globalSetup: ['test/kernel/global-setup.ts'],
              },
            },
          ]
        : []),
    ],
  },
});
