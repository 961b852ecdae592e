// Minimal global setup for the guest tier (to be replaced by the shared one): the guest tests build what
// they need themselves (see test/helpers/uml-boot.ts).
export default async function setup(): Promise<void> {}
