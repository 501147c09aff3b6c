/** A transport's listening side, as the shutdown sequence sees it. */
export interface DeviceListener {
  /** Stop accepting new connections; existing sessions stay until the shutdown closes them. */
  stopAccepting(): Promise<void>;
}
