import { RegistryError } from '@wharf/oci';
import { ManifestContent } from '../docker-repository';

/** One member's answer during a virtual's resolution: the first pass ('held') or its upstream. */
export interface ResolutionStep {
  repository: string;
  pass: 'held' | 'upstream';
  result: 'found' | 'missing' | 'error';
  digest?: string;
  message?: string;
}

/** How a virtual resolved a manifest: who served it and what each member answered, in order. */
export interface ManifestResolution {
  steps: ResolutionStep[];
  /** `local-only`: a local member owns the name, so no cache or upstream was considered. */
  priorityResolution: 'local-only' | 'not-applied' | 'off';
  servedBy?: string;
  manifest?: ManifestContent;
  /** Why nothing was found when an upstream failed (rather than answered "unknown"). */
  error?: RegistryError;
}
