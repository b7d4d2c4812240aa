-- A binding outlives its cohort: under Moodle's suspend actions, deleting a bound cohort
-- keeps its bindings, disabled, pointing at the cohort that no longer exists (FACTS.md §5,
-- cases 08 and 18). So bindings.cohort_id no longer references cohorts.
ALTER TABLE bindings DROP CONSTRAINT bindings_cohort_id_fkey;
