import { render } from 'preact';
import { App } from './ui/app';
import { savedSession, startClient } from './ui/state';
import './style.css';

const s = savedSession();
if (s) startClient(s);
render(<App />, document.getElementById('app')!);

// The service worker keeps the app's files so that it loads without a network (dist/sw.js).
if ('serviceWorker' in navigator && location.protocol !== 'file:')
  navigator.serviceWorker.register('/sw.js').catch((e) => console.warn('service worker not registered:', e));
