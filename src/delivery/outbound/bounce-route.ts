import { domainOf } from '../../core/address.js';
import type { Directory } from '../../directory/directory.js';
import type { BounceRouter } from './outcome.js';

/**
 * Bounces to a local sender go to the sender's INBOX (through aliases); to a
 * remote sender, through the outbound queue; to an unknown address in a local
 * domain, nowhere.
 */
export function directoryBounceRouter(directory: Directory): BounceRouter {
  return async (address) => {
    const found = await directory.expandRecipient(address);
    const local = found?.local[0];
    if (local) return { address: local.address, transport: 'local', accountId: local.id };
    const remote = found?.remote[0];
    if (remote) return { address: remote, transport: 'remote' };
    if (await directory.isLocalDomain(domainOf(address))) return null;
    return { address, transport: 'remote' };
  };
}
