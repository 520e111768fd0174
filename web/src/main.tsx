import { render } from 'preact';
import { App } from './ui/app';
import { savedSession, startClient } from './ui/state';
import './style.css';

const s = savedSession();
if (s) startClient(s);
render(<App />, document.getElementById('app')!);
