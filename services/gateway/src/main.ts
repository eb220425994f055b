import { serviceMain } from '@callgate/common';
import { gatewayConfigShape, startGateway } from './service.js';

// `extend` is for test harnesses; this process is the gateway's own, so one stray rejection must not end it.
await serviceMain('gateway', gatewayConfigShape, (config) => startGateway(config, { guardProcess: true }));
