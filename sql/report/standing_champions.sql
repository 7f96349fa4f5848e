-- Where we stand: the champion network in $q (marts.kpi_champions, docs/metrics.md §6), the
-- company first; a suppressed department carries its reason and no figure.
SELECT segment_type, segment, suppressed, suppression_reason, headcount, champions,
       employees_per_champion, band_low, band_high, status, people_with_champion,
       regular_user_rate_with_champion, people_without_champion, regular_user_rate_without_champion
FROM marts.kpi_champions
WHERE quarter = $q
ORDER BY segment_type <> 'company', segment
