import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { deriveSchema } from '../../scripts/deploy-checks/derive-aws-schema.js';

const root = path.resolve(import.meta.dirname, '../..');
const doc = (anchor: string) => ({
  summary: `Docs at Terraform Registry: {@link https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs/resources/sqs_queue#${anchor} SqsQueue#${anchor}}.`,
});

test('the schema is derived from the assembly: registry anchors, required properties, nested blocks, ConfigA structs', () => {
  const types = {
    'p.sqsQueue.SqsQueue': {
      kind: 'class',
      name: 'SqsQueue',
      fqn: 'p.sqsQueue.SqsQueue',
      docs: {
        summary:
          'Represents a {@link https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs/resources/sqs_queue aws_sqs_queue}.',
      },
      initializer: { parameters: [{ name: 'config', type: { fqn: 'p.sqsQueue.SqsQueueConfigA' } }] },
    },
    'p.sqsQueue.SqsQueueConfigA': {
      kind: 'interface',
      name: 'SqsQueueConfigA',
      properties: [
        { name: 'name', docs: doc('name') },
        { name: 'redrivePolicy', optional: true, docs: doc('redrive_policy') },
        {
          name: 'timeouts',
          optional: true,
          docs: doc('timeouts'),
          type: { union: { types: [{ fqn: 'cdktf.IResolvable' }, { fqn: 'p.sqsQueue.Timeouts' }] } },
        },
        { name: 'count', optional: true, docs: { summary: 'meta-argument, no registry anchor' } },
      ],
    },
    'p.sqsQueue.Timeouts': {
      kind: 'interface',
      name: 'Timeouts',
      properties: [{ name: 'create', optional: true, docs: doc('create') }],
    },
  };
  const schema = deriveSchema({ types } as never);
  assert.equal(schema.version, '6.25.0');
  assert.deepEqual(schema.resources.aws_sqs_queue, {
    arguments: ['name', 'redrive_policy', 'timeouts'],
    required: ['name'],
    blocks: { timeouts: ['create'] },
  });
});

test('terraform/aws-provider-schema.json is current for the installed @cdktf/provider-aws', () => {
  const assembly = JSON.parse(readFileSync(path.join(root, 'node_modules/@cdktf/provider-aws/.jsii'), 'utf8'));
  const fresh = deriveSchema(assembly);
  const committed = JSON.parse(readFileSync(path.join(root, 'terraform/aws-provider-schema.json'), 'utf8'));
  assert.equal(committed.version, fresh.version, 're-run: npx tsx scripts/deploy-checks/derive-aws-schema.ts');
  assert.deepEqual(Object.keys(committed.resources).sort(), Object.keys(fresh.resources).sort());
  assert.deepEqual(committed.resources.aws_ecs_service, fresh.resources.aws_ecs_service);
});
