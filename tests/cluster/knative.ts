import type { Cluster } from './start.ts';
export async function deployKnative(_c: Cluster): Promise<void> {
  throw new Error('todo');
}
