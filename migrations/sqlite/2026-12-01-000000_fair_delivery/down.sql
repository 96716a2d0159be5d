DROP INDEX instances_by_failures;
