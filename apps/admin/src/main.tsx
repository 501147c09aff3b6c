// First: before @telehub/contracts builds its schemas.
import './zod-jitless.js';
import { render } from 'preact';
import { App } from './app.js';
import { initTheme } from './state/theme.js';
// Order matters: later files refine earlier ones, and responsive.css overrides them all on small screens.
import './styles/base.css';
import './styles/layout.css';
import './styles/controls.css';
import './styles/surfaces.css';
import './styles/data.css';
import './styles/shell.css';
import './styles/sign-in.css';
import './styles/overview.css';
import './styles/devices.css';
import './styles/device.css';
import './styles/admin-tokens.css';
import './styles/responsive.css';

initTheme();
render(<App />, document.getElementById('app')!);
