# Fewer running tasks than the minimum for 5 minutes: tasks crash-loop (failed health checks, exits at
# start-up on bad config) or cannot be placed. Stopped-task events go to the same topic (modules/stack).
resource "aws_cloudwatch_metric_alarm" "running_tasks" {
  alarm_name          = "${local.full_name}-running-tasks"
  alarm_description   = "${var.name}: fewer than ${var.min_capacity} tasks running (restarts or placement failures)."
  namespace           = "ECS/ContainerInsights"
  metric_name         = "RunningTaskCount"
  dimensions          = { ClusterName = var.cluster_name, ServiceName = aws_ecs_service.service.name }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 5
  threshold           = var.min_capacity
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags
}
