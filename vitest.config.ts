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
    ],
  },
});
