import { serviceMain } from '@callgate/common';
import { sandboxConfigShape, startSandbox } from './service.js';

await serviceMain('sandbox', sandboxConfigShape, startSandbox);
