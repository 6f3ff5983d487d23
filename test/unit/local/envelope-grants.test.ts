import { describe, expect, it } from 'vitest';
import { HandlerLoader } from '../../../infra/local/handler-loader.ts';
import { openSecret, sealSecret } from '../../../shared/crypto/envelope.ts';
import { lambdaContext } from '../../support/events.ts';

/** The local stack runs each function inside its row's envelope grant, as KMS enforces in AWS. */
describe('envelope-encryption grants on the local stack', () => {
  const loader = new HandlerLoader('/nonexistent');
  const context = { business_id: 'b-1', card_id: 'c-1', purpose: 'card' };

  it('lets a function seal and open the purposes its row lists', async () => {
    const handler = await loader.load(async () => openSecret(await sealSecret({ cvv: '123' }, context), context), {
      table: 'read',
      encrypt: ['card'],
      decrypt: ['card'],
    });
    await expect(handler({}, lambdaContext)).resolves.toEqual({ cvv: '123' });
  });

  it('refuses a purpose outside the row, as KMS would', async () => {
    const sealed = await sealSecret({ cvv: '123' }, context);
    const readsEkyc = await loader.load(() => openSecret(sealed, context), { table: 'read', decrypt: ['ekyc'] });
    await expect(readsEkyc({}, lambdaContext)).rejects.toThrow(/AccessDenied.*decrypt.*"card"/);
    const sealsNothing = await loader.load(() => sealSecret('x', context), { table: 'read' });
    await expect(sealsNothing({}, lambdaContext)).rejects.toThrow(/AccessDenied.*encrypt/);
  });
});
