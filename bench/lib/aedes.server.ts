/**
 * The peer baseline: the npm MQTT broker aedes (1.x) on loopback, in a process of its own, with its default
 * in-memory persistence. It acknowledges a QoS 1 publish once it has routed it (there are no subscribers)
 * and stores nothing, so it shows what an MQTT server in Node costs without durability.
 * Forked by aedes-launcher.ts; reports its port, and on request why it closed connections, over IPC.
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import { workerChannel } from './child-worker.js';

export type AedesCommand = { type: 'stats' } | { type: 'close' };
export type AedesEvent =
  | { type: 'listening'; port: number }
  | { type: 'stats'; closeReasons: Record<string, number> }
  | { type: 'closed' };

const broker = await Aedes.createBroker();
/** Why client connections ended (a keep-alive timeout is a clientError too), like the hub's `disconnected` events. */
const closeReasons: Record<string, number> = {};
const count = (reason: string) => {
  closeReasons[reason] = (closeReasons[reason] ?? 0) + 1;
};
broker.on('clientError', (_client, error) => count(error.message));
broker.on('connectionError', (_client, error) => count(`before CONNECT: ${error.message}`));
const server = createServer(broker.handle);
server.on('error', (error) => count(`server: ${error.message}`));

const send = workerChannel<AedesCommand, AedesEvent>((message) => {
  if (message.type === 'stats') send({ type: 'stats', closeReasons });
  if (message.type === 'close') {
    server.close();
    broker.close(() => {
      send({ type: 'closed' });
      process.exit(0);
    });
  }
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  send({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 });
});
