// The "Notifications on this device" switch (in the Devices dialog): Web Push for this browser,
// its state, and why it cannot be on or what went wrong (lib/push.ts).
import { MESSAGES, PushController, PushState } from '../lib/push';
import { push, version } from './state';

const STATUS: Record<PushState, string> = {
  unknown: 'Checking…',
  unsupported: MESSAGES.unsupported,
  'server-off': MESSAGES.serverOff,
  denied: MESSAGES.denied,
  off: 'Off: no notifications while Confab is closed or in the background.',
  on: 'On: a notification for each new message while Confab is closed or in the background.',
};

export function PushSwitch() {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const p: PushController | null = push.value;
  if (!p) return null;
  const unavailable = p.state === 'unsupported' || p.state === 'server-off';
  const on = p.state === 'on';
  return (
    <section class="push-switch" data-push-state={p.state} aria-labelledby="push-switch-label">
      <label class="switch">
        <input
          type="checkbox"
          role="switch"
          aria-describedby="push-switch-status"
          checked={on}
          disabled={unavailable || p.busy || p.state === 'unknown'}
          onChange={(e) => {
            const want = (e.target as HTMLInputElement).checked;
            (e.target as HTMLInputElement).checked = on; // shows the outcome, not the click
            void (want ? p.enable() : p.disable());
          }}
        />
        <span id="push-switch-label">Notifications on this device</span>
      </label>
      <p id="push-switch-status" class="muted" data-testid="push-status">
        {p.busy ? 'Working…' : STATUS[p.state]}
      </p>
      <p class="error" role="alert" data-testid="push-error">
        {p.error !== STATUS[p.state] ? p.error : ''}
      </p>
    </section>
  );
}
