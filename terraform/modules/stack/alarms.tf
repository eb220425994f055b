# One SNS topic for every alarm (queue, DLQ, 5xx, running tasks) and for stopped-task events.

# Not encrypted with the AWS managed SNS key: CloudWatch alarms cannot publish to topics under that key
# (its key policy does not admit them), and alarm texts hold no secrets.
resource "aws_sns_topic" "alarms" {
  name = "${local.name}-alarms"
  tags = local.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.key
}

data "aws_iam_policy_document" "alarms_topic" {
  statement {
    sid       = "CloudWatchAlarms"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }

  statement {
    sid       = "StoppedTaskEvents"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.task_stopped.arn]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarms_topic.json
}

# A task that stops on its own (crash, failed health check, OOM) rather than by a deployment or scale-in:
# each such restart is worth a look even when the service recovers before the running-tasks alarm.
resource "aws_cloudwatch_event_rule" "task_stopped" {
  name        = "${local.name}-task-stopped"
  description = "callgate tasks that stopped unexpectedly"
  tags        = local.tags

  event_pattern = jsonencode({
    source      = ["aws.ecs"]
    detail-type = ["ECS Task State Change"]
    detail = {
      clusterArn    = [aws_ecs_cluster.this.arn]
      lastStatus    = ["STOPPED"]
      stopCode      = ["EssentialContainerExited", "TaskFailedToStart"]
      desiredStatus = ["STOPPED"]
    }
  })
}

resource "aws_cloudwatch_event_target" "task_stopped" {
  rule      = aws_cloudwatch_event_rule.task_stopped.name
  target_id = "alarms-topic"
  arn       = aws_sns_topic.alarms.arn
}
