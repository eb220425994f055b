# What the services' code may do in AWS. Three services touch AWS APIs: the call service enqueues status
# polls, delivers webhooks through their queue and stores recordings; the poller consumes the queue; the auth service sends account mail through
# SES. Everyone else's task role has no policy.

data "aws_iam_policy_document" "call_task" {
  # SendMessage: status polls; GetQueueAttributes: the readiness probe of the queue.
  statement {
    sid       = "EnqueueStatusPolls"
    actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
    resources = [module.queue.queue_arn]
  }

  # Recordings: stored after each recorded call, read for the recording resource, deleted on request and
  # by the retention job. Pre-signed URLs are signed with this role, so they can read no more than it.
  # Outbound webhooks: the relay sends deliveries (SendMessage, batched), the worker receives them, hides a
  # failed one for its backoff (ChangeMessageVisibility) and deletes a finished one; GetQueueAttributes reads
  # the redrive policy (the DLQ's name). On the DLQ: SendMessage (a delivery past its retry window) and
  # GetQueueAttributes (webhook_dlq_depth). Nothing else: no purge, no receive from the DLQ.
  statement {
    sid = "DeliverWebhooks"
    actions = [
      "sqs:SendMessage",
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [module.webhook_queue.queue_arn]
  }

  statement {
    sid       = "DeadLetterWebhooks"
    actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
    resources = [module.webhook_queue.dlq_arn]
  }

  statement {
    sid       = "StoreRecordings"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = ["${module.recordings.bucket_arn}/recordings/*"]
  }

  # SSE-KMS: a data key to write, decryption to read (and for pre-signed URLs).
  statement {
    sid       = "EncryptRecordings"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [module.recordings.kms_key_arn]
  }
}

data "aws_iam_policy_document" "poller_task" {
  # Receive, delete and extend visibility (slow refreshes), and GetQueueAttributes for readiness.
  # SendMessage: a call still not terminal is re-enqueued with a delay, and the stale-call sweep enqueues
  # polls (services/poller/src/refresh.ts, sweep.ts); without it those polls would be lost.
  statement {
    sid = "ConsumeStatusPolls"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
      "sqs:SendMessage",
    ]
    resources = [module.queue.queue_arn]
  }

  # The DLQ's depth (poller_dlq_depth, services/poller/src/dlq-depth.ts): read-only, no GetQueueUrl needed.
  statement {
    sid       = "SampleDlqDepth"
    actions   = ["sqs:GetQueueAttributes"]
    resources = [module.queue.dlq_arn]
  }
}

data "aws_iam_policy_document" "auth_task" {
  # Confirmation and password-reset mail (services/auth/src/mail-outbox.ts), from the sender domain only.
  statement {
    sid       = "SendAccountMail"
    actions   = ["ses:SendEmail"]
    resources = [aws_sesv2_email_identity.mail.arn]
  }
}
