// Types the dashboard's server and browser share. Pure.

export interface AgentStatus {
  name: string;
  url: string;
  up: boolean;
  hostname?: string;
  version?: string;
  storeId?: string;
  /** why it cannot be used, in words with what to do */
  message?: string;
  /** what kind of problem that is (unreachable, token, certificate-changed, version, ...) */
  problem?: string;
  /** the SHA-256 of its pinned certificate (https agents) */
  fingerprint?: string;
}
