import type { State } from '../lib/api/types';

/** The colour of a progress bar for a state. */
export function progressTone(state: State | null | undefined): 'blue' | 'green' | 'red' | 'amber' | 'grey' {
  switch (state) {
    case 'completed': return 'green';
    case 'failed': return 'red';
    case 'paused': return 'amber';
    case 'cancelled': return 'grey';
    default: return 'blue';
  }
}
