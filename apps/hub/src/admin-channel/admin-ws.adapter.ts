import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { WebSocketServer } from 'ws';
import { type FrameData, routeAdminFrame } from './admin-frame.js';

export interface AdminWsAdapterOptions {
  /** TELEHUB_ADMIN_WS_MAX_MESSAGE_BYTES: `ws` closes a connection that sends a larger message with 1009. */
  maxMessageBytes: number;
  /** TELEHUB_JSON_MAX_DEPTH */
  maxJsonDepth: number;
}

/**
 * Nest's WsAdapter for the admin gateway, on the hub's shared HTTP server, with two changes:
 *
 * - Its `ws` server is detached (`noServer`). On the HTTP port, WsAdapter adds an 'upgrade' listener of its own
 *   to the HTTP server, which destroys the socket of every handshake for a path no gateway serves: the device
 *   WebSocket's and MQTT over WebSocket's, which UpgradeRouter is answering at the same time. UpgradeRouter
 *   stays the one owner of that event and hands the gateway the handshakes of its path
 *   (AdminChannelGateway.afterInit); ports of their own are not supported.
 * - Frames are read as the admin protocol has them (admin-frame.ts), not as Nest's `{event, data}`.
 */
export class AdminWsAdapter extends WsAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly limits: AdminWsAdapterOptions,
  ) {
    super(app, { messageParser: (frame) => routeAdminFrame(frame as FrameData, limits.maxJsonDepth) });
  }

  override create(port: number): WebSocketServer {
    if (port !== 0) throw new Error(`gateways are served on the hub's HTTP port, not on port ${port}`);
    // clientTracking off: the gateway keeps its sessions, and closes them itself at shutdown (1001).
    return new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: this.limits.maxMessageBytes });
  }
}
