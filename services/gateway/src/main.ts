import { serviceMain } from '@callgate/common';
import { gatewayConfigShape, startGateway } from './service.js';

// Production passes no options: `extend` is for test harnesses.
await serviceMain('gateway', gatewayConfigShape, (config) => startGateway(config));
