output "queue_url" {
  description = "URL of the call-status queue (SQS_QUEUE_URL)."
  value       = aws_sqs_queue.main.id
}

output "queue_arn" {
  description = "ARN of the call-status queue (IAM policies)."
  value       = aws_sqs_queue.main.arn
}

output "queue_name" {
  description = "Name of the call-status queue (CloudWatch dimensions, autoscaling)."
  value       = aws_sqs_queue.main.name
}

output "dlq_name" {
  description = "Name of the dead-letter queue (SQS_DLQ_NAME)."
  value       = aws_sqs_queue.dlq.name
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue (the poller samples its depth: poller_dlq_depth)."
  value       = aws_sqs_queue.dlq.arn
}

output "max_receive_count" {
  description = "Receives before SQS dead-letters a message (the services' *_MAX_RECEIVE_COUNT)."
  value       = var.max_receive_count
}
