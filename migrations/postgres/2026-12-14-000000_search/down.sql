DROP TABLE post_search;
