// Renderer entry: one transport (Electron preload or the WebSocket bridge) for the app's lifetime.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { AppProvider } from './app-context.tsx';
import { createTransport } from './transport.ts';
import './styles.css';

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <StrictMode>
      <AppProvider engine={createTransport()}>
        <App />
      </AppProvider>
    </StrictMode>,
  );
