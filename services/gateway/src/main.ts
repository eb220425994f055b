import { serviceMain } from '@callgate/common';
import { gatewayConfigShape, startGateway } from './service.js';

await serviceMain('gateway', gatewayConfigShape, startGateway);
