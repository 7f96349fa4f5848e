-- Where we stand: the 90-day rollout (marts.rollout_milestones, docs/metrics.md §8), in the
-- config's order; programme-wide, as of the data's last day.
SELECT phase, milestone, kind, due_day, due_date, target, actual, group_size, reached_on, days_late, status
FROM marts.rollout_milestones
ORDER BY sort_order
