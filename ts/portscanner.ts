// The `ferroscan/portscanner` entry: the npm package portscanner's API, so an app switches
// with one line — `require('portscanner')` becomes `require('ferroscan/portscanner')`, or
// `import portscanner from 'portscanner'` becomes `import portscanner from 'ferroscan/portscanner'`.
// The same functions as the package entry (it loads the engine the same way), by name and as
// portscanner's default object.
import { checkPort, checkPorts, checkPortStatus, findAPortInUse, findAPortNotInUse } from './index.js';

export { checkPort, checkPorts, checkPortStatus, findAPortInUse, findAPortNotInUse } from './index.js';
export type { CheckPortCallback, CheckTechnique, FindPortCallback, PortCheck, PortscannerOptions, PortStatus } from './index.js';

/** portscanner's module object (its three functions), plus ferroscan's checkPort and checkPorts. */
const portscanner = { checkPortStatus, findAPortInUse, findAPortNotInUse, checkPort, checkPorts };
export default portscanner;
