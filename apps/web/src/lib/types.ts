// Types the dashboard's server and browser share. Pure.

export interface AgentStatus {
  name: string;
  url: string;
  up: boolean;
  hostname?: string;
  version?: string;
  storeId?: string;
  message?: string;
}
