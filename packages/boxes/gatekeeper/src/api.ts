export type { Gatekeeper, GatekeeperOptions, GatekeeperStats } from '@hakmem/contracts';
