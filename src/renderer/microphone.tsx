// The microphone during a call: device choice and a live level meter (getUserMedia -> AudioWorklet).
// Errors (no device, permission refused) are shown, never thrown: the call itself goes on.
import { useEffect, useId, useState } from 'react';

function useMicrophone(deviceId: string): {
  level: number;
  error: string | null;
  devices: MediaDeviceInfo[];
} {
  const [level, setLevel] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  useEffect(() => {
    let stopped = false;
    let stream: MediaStream | null = null;
    let ctx: AudioContext | null = null;
    (async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          audio: deviceId ? { deviceId: { exact: deviceId } } : true,
        });
        if (stopped) return;
        setDevices((await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audioinput'));
        ctx = new AudioContext();
        await ctx.audioWorklet.addModule(new URL('./mic-level-worklet.js', document.baseURI).href);
        if (stopped) return;
        const node = new AudioWorkletNode(ctx, 'mic-level');
        node.port.onmessage = (e: MessageEvent<number>) => setLevel(e.data);
        ctx.createMediaStreamSource(stream).connect(node);
        setError(null);
      } catch (err) {
        if (!stopped) setError((err as Error).message || String(err));
      }
    })();
    return () => {
      stopped = true;
      for (const t of stream?.getTracks() ?? []) t.stop();
      void ctx?.close();
    };
  }, [deviceId]);
  return { level, error, devices };
}

export function Microphone({ muted }: { muted: boolean }) {
  const [deviceId, setDeviceId] = useState('');
  const { level, error, devices } = useMicrophone(deviceId);
  const id = useId();
  return (
    <div className="mic row">
      {devices.length > 1 ? (
        <label className="search">
          <span>Microphone</span>
          <select id={id} value={deviceId} onChange={(e) => setDeviceId(e.target.value)}>
            <option value="">Default</option>
            {devices.map((d, i) => (
              <option key={d.deviceId || i} value={d.deviceId}>
                {d.label || `Microphone ${i + 1}`}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {error ? (
        <span className="warning">Microphone unavailable: {error}</span>
      ) : (
        <label className="meter">
          <span>{muted ? 'Microphone (muted)' : 'Microphone level'}</span>
          <meter min={0} max={1} value={muted ? 0 : level} />
        </label>
      )}
    </div>
  );
}
