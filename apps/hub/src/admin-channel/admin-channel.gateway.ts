import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Inject, UseFilters, UsePipes } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import {
  ADMIN_CLOSE,
  ADMIN_WS_PATH,
  AdminAuthMessageSchema,
  type AdminClientMessage,
  AdminClientMessageSchema,
  type AdminCommandCreatedMessage,
  type AdminCommandMessage,
  AdminCommandMessageSchema,
  AdminPingMessageSchema,
  type AdminPongMessage,
  type AdminSubscribeMessage,
  AdminSubscribeMessageSchema,
  type AdminUnsubscribedMessage,
  AdminUnsubscribeMessageSchema,
} from '@telehub/contracts';
import type { Logger } from 'pino';
import type { WebSocket, WebSocketServer } from 'ws';
import type { AdminIdentity } from '../admin-auth/admin-identity.js';
import { Public } from '../admin-auth/public.decorator.js';
import { presentCommand } from '../commands/command.presenter.js';
import { CommandService } from '../commands/command.service.js';
import { ListeningPorts } from '../common/listening-ports.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { LOGGER } from '../logging/logger.token.js';
import { rejectUpgrade, UpgradeRouter } from '../transports/upgrade-router.js';
import { AdminChannelExceptionFilter } from './admin-channel.exception-filter.js';
import { AdminChannelAuth, type HandshakeRefusal } from './admin-channel-auth.js';
import { AdminFanoutService } from './admin-fanout.service.js';
import { UNKNOWN_MESSAGE, UNREADABLE_FRAME, type UnreadableFrame } from './admin-frame.js';
import { AdminMessagePipe } from './admin-message.pipe.js';
import { AdminSession, type AdminSessionServices } from './admin-session.js';
import { SubscriptionSnapshotService } from './subscription-snapshot.service.js';

type MessageOf<T extends AdminClientMessage['type']> = Extract<AdminClientMessage, { type: T }>;

/**
 * The admin WebSocket channel at /v1/admin/ws (docs/admin-protocol.md): one handler per client message type,
 * each validated against its schema in libs/contracts (AdminMessagePipe) and checked against the role of the
 * connection's token; every failure is answered by AdminChannelExceptionFilter in the protocol's terms. What a
 * connection holds lives in AdminSession; what the hub pushes to connections, in AdminFanoutService.
 *
 * Served on the hub's HTTP port by AdminWsAdapter, which leaves the HTTP server's 'upgrade' event to
 * UpgradeRouter: the handshakes of this path come through afterInit's route.
 *
 * The handlers are not `async`: a refusal they throw at once is answered in the same turn as a reply another
 * handler returns at once, so such answers keep the order of the messages (a client may send a message, then a
 * ping, and know the answer came before the pong). An answer that waits (a snapshot, a new command) comes later.
 *
 * @Public(): the REST guard (AdminAuthGuard, global, so also asked about WebSocket messages) has no request
 * token to check here; a connection signs in once, and each message is checked against its role.
 */
@WebSocketGateway({ path: ADMIN_WS_PATH })
@Public()
@UseFilters(AdminChannelExceptionFilter)
@UsePipes(AdminMessagePipe)
export class AdminChannelGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  /** verifyToken is added per connection, where the connection's address is known. */
  private readonly sessionServices: Omit<AdminSessionServices, 'verifyToken'>;
  /** The identity of a valid token in the handshake's Authorization header, until its connection opens. */
  private readonly headerIdentities = new WeakMap<IncomingMessage, AdminIdentity>();

  constructor(
    private readonly upgrades: UpgradeRouter,
    private readonly auth: AdminChannelAuth,
    private readonly fanout: AdminFanoutService,
    private readonly commands: CommandService,
    snapshots: SubscriptionSnapshotService,
    ports: ListeningPorts,
    @Inject(HUB_CONFIG) config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.sessionServices = {
      config: config.adminChannel,
      nodeId: config.nodeId,
      mqttPorts: () => ports.mqtt,
      logger,
      snapshot: (request) => snapshots.snapshot(request),
      register: (subscription, session) => fanout.register(subscription, session),
      unregister: (subscription) => fanout.unregister(subscription),
    };
  }

  afterInit(server: WebSocketServer): void {
    this.upgrades.register(ADMIN_WS_PATH, (request, socket, head) => {
      this.handshake(server, request, socket, head).catch((error: unknown) => {
        this.logger.error({ err: error }, 'admin WebSocket handshake failed');
        socket.destroy();
      });
    });
  }

  /**
   * Runs synchronously within the handshake's completion (handshake() below), so the count of connections still
   * to authenticate, checked there, cannot be overtaken before this session is counted.
   */
  handleConnection(socket: WebSocket, request: IncomingMessage): void {
    const address = request.socket.remoteAddress;
    const services = { ...this.sessionServices, verifyToken: (token: string) => this.auth.verify(token, address) };
    this.fanout.add(socket, new AdminSession(socket, services, this.headerIdentities.get(request)));
  }

  handleDisconnect(socket: WebSocket): void {
    this.fanout.remove(socket)?.disconnected();
  }

  @SubscribeMessage('auth')
  signIn(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody({ schema: AdminAuthMessageSchema }) message: MessageOf<'auth'>,
  ): Promise<void> {
    return this.session(socket).signIn(message.token);
  }

  /** Browsers cannot send WebSocket pings: this one is answered in JSON. */
  @SubscribeMessage('ping')
  ping(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody({ schema: AdminPingMessageSchema }) message: MessageOf<'ping'>,
  ): AdminPongMessage {
    const session = this.session(socket);
    session.authorize(message.type);
    return session.pong(message.ref);
  }

  @SubscribeMessage('subscribe')
  subscribe(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody({ schema: AdminSubscribeMessageSchema }) message: AdminSubscribeMessage,
  ): Promise<void> {
    const session = this.session(socket);
    session.authorize(message.type);
    return session.subscribe(message);
  }

  @SubscribeMessage('unsubscribe')
  unsubscribe(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody({ schema: AdminUnsubscribeMessageSchema }) message: MessageOf<'unsubscribe'>,
  ): AdminUnsubscribedMessage {
    const session = this.session(socket);
    session.authorize(message.type);
    session.unsubscribe(message.id);
    return { type: 'unsubscribed', id: message.id };
  }

  @SubscribeMessage('command')
  command(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody({ schema: AdminCommandMessageSchema }) message: AdminCommandMessage,
  ): Promise<AdminCommandCreatedMessage> {
    const session = this.session(socket);
    session.authorize(message.type);
    return this.createCommand(session, message);
  }

  /**
   * JSON of no known message type: validated against the union of them all, whose error names the types (so
   * this handler's body is never reached).
   */
  @SubscribeMessage(UNKNOWN_MESSAGE)
  unknown(@MessageBody({ schema: AdminClientMessageSchema }) _message: unknown): void {}

  /** A frame that is no JSON text: binary frames close the connection (1008), others are refused. */
  @SubscribeMessage(UNREADABLE_FRAME)
  unreadable(@ConnectedSocket() socket: WebSocket, @MessageBody() frame: UnreadableFrame): void {
    const session = this.session(socket);
    if (frame.binary) session.close(ADMIN_CLOSE.protocolError, 'send JSON in text frames');
    else session.refuse(frame.code, frame.message);
  }

  /** The same call as POST /api/v1/devices/{id}/commands (CommandsController.create). */
  private async createCommand(
    session: AdminSession,
    message: AdminCommandMessage,
  ): Promise<AdminCommandCreatedMessage> {
    const { type: _type, ref, deviceId, ...request } = message;
    const { command } = await this.commands.create(deviceId, request);
    session.commandCreated(command.id);
    return { type: 'command_created', ...(ref === undefined ? {} : { ref }), command: presentCommand(command) };
  }

  /**
   * The checks of admin-channel-auth.ts, then the WebSocket handshake. Synchronous from the count of connections
   * still to authenticate to their session being added (handleConnection), so that count cannot be overtaken.
   */
  private async handshake(server: WebSocketServer, request: IncomingMessage, socket: Duplex, head: Buffer) {
    const admission = await this.auth.admit(request);
    if (admission.refusal) {
      refuse(socket, admission.refusal);
      return;
    }
    if (!this.fanout.accepting || socket.destroyed) {
      socket.destroy();
      return;
    }
    if (!admission.identity) {
      const refusal = this.auth.unauthenticatedRefusal(this.fanout.unauthenticatedCount());
      if (refusal) {
        refuse(socket, refusal);
        return;
      }
    }
    if (admission.identity) this.headerIdentities.set(request, admission.identity);
    server.handleUpgrade(request, socket, head, (websocket) => server.emit('connection', websocket, request));
  }

  /** Every connection has its session from handleConnection on, until handleDisconnect. */
  private session(socket: WebSocket): AdminSession {
    const session = this.fanout.sessionOf(socket);
    if (!session) throw new Error('admin channel message from a connection without a session');
    return session;
  }
}

function refuse(socket: Duplex, refusal: HandshakeRefusal): void {
  rejectUpgrade(socket, refusal.status, refusal.problem, refusal.headers);
}
