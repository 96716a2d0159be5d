-- Due instances are claimed fairly: the least failing first (see db::outbox::due_instances).
CREATE INDEX instances_by_failures ON instances (failures, id);
