export {
  type AudioPortLike,
  IPC_AUDIO_PORT,
  type IpcEngineOptions,
  type IpcMainLike,
  serveAudioOverPort,
  serveEngineOverIpc,
} from './ipc.ts';
export { startUiBridge, UI_HOST, type UiBridge, type UiBridgeOptions, WS_PATH } from './server.ts';
export { contentSecurityPolicy, RENDERER_DIR } from './static-files.ts';
export { loadUiToken, UI_TOKEN_FILE } from './token.ts';
