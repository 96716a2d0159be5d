DROP TABLE instance_blocks;
