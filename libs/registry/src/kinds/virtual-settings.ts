/** The virtual-only fields of the repository REST API (Artifactory's names). */
export interface VirtualFields {
  /** Member keys in resolution order: local, remote or virtual repositories. */
  repositories?: string[];
  /** A local repository among the (flattened) members that receives pushes; null for none. */
  defaultDeploymentRepo?: string | null;
  resolveDockerTagsByTimestamp?: boolean;
  priorityResolution?: boolean;
  includesPattern?: string;
  excludesPattern?: string;
}

/** What a virtual keeps in `repositories.settings`; members and deployment target are rows. */
export interface VirtualSettings {
  /** Among the members holding a tag in the first pass, the most recently pushed or cached wins. */
  resolveDockerTagsByTimestamp: boolean;
  /** Once a local member holds an image name, that name resolves from local members only. */
  priorityResolution: boolean;
  includesPattern: string;
  excludesPattern: string;
}

export const VIRTUAL_DEFAULTS: VirtualSettings = {
  resolveDockerTagsByTimestamp: false,
  priorityResolution: true,
  includesPattern: '**',
  excludesPattern: '',
};

export function readVirtualSettings(stored: Record<string, unknown>): VirtualSettings {
  return { ...VIRTUAL_DEFAULTS, ...(stored as Partial<VirtualSettings>) };
}
