/**
 * The seed for fast-check properties: a fresh one each run, so runs explore different cases, or
 * FC_SEED to replay one. fast-check names the seed (and the shrunk path) in every failure report.
 */
export const propertySeed: number = process.env.FC_SEED === undefined ? Date.now() | 0 : Number(process.env.FC_SEED);
