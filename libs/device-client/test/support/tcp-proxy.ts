import { type AddressInfo, createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

interface Link {
  device: Socket;
  hub: Socket;
  /** Bytes from the device are dropped instead of forwarded. */
  blackholed: boolean;
}

/**
 * A TCP relay between a device client and the hub, so a test can break the network under a real client:
 * cut every connection (as a dropped link would), or silently drop what devices send (lost acknowledgements).
 * The hub's tests also put one between the hub and PostgreSQL, to stall the database (`stall`).
 */
export class TcpProxy {
  private readonly links = new Set<Link>();
  /** Connections accepted while stalled: held open, never relayed. */
  private readonly held = new Set<Socket>();
  private stalled = false;
  private readonly server: Server;
  private listeningPort = 0;

  private constructor(
    private readonly hubPort: number,
    private readonly hubHost: string,
  ) {
    this.server = createServer((device) => this.relay(device));
  }

  static async start(hubPort: number, hubHost = '127.0.0.1'): Promise<TcpProxy> {
    const proxy = new TcpProxy(hubPort, hubHost);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.listeningPort = (proxy.server.address() as AddressInfo).port;
    return proxy;
  }

  get port(): number {
    return this.listeningPort;
  }

  get connectionCount(): number {
    return this.links.size;
  }

  /** From now on, what the current connections' devices send never reaches the hub. New connections flow. */
  blackholeDevices(): void {
    for (const link of this.links) link.blackholed = true;
  }

  /** Destroys every relayed connection on both sides, with no closing handshake. */
  cut(): void {
    for (const link of [...this.links]) {
      link.device.destroy();
      link.hub.destroy();
    }
  }

  /**
   * The far side goes silent, as a hung server or a network that drops every packet: current connections
   * forward nothing either way, and new ones are accepted but never reach it.
   */
  stall(): void {
    this.stalled = true;
  }

  /** Ends a stall. The connections it silenced lost bytes and cannot go on, so they are cut; new ones flow. */
  resume(): void {
    this.stalled = false;
    this.cut();
    for (const socket of this.held) socket.destroy();
  }

  /**
   * Ends a stall for new connections only: those accepted during it stay open and silent, as a connection
   * attempt whose packets were lost in a partition hangs on after the network healed, until its client gives up.
   */
  resumeNewConnections(): void {
    this.stalled = false;
    this.cut();
  }

  async close(): Promise<void> {
    this.cut();
    for (const socket of this.held) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(device: Socket): void {
    if (this.stalled) {
      this.held.add(device);
      device.on('error', () => undefined).on('close', () => this.held.delete(device));
      return;
    }
    const hub = tcpConnect(this.hubPort, this.hubHost);
    const link: Link = { device, hub, blackholed: false };
    this.links.add(link);
    device.on('data', (chunk) => {
      if (!link.blackholed && !this.stalled) hub.write(chunk);
    });
    hub.on('data', (chunk) => {
      if (!this.stalled) device.write(chunk);
    });
    const end = () => {
      this.links.delete(link);
      device.destroy();
      hub.destroy();
    };
    for (const socket of [device, hub]) {
      socket.on('close', end);
      socket.on('error', end);
    }
  }
}
