-- Code blocks and tables in posts scroll in their own box, so they are in the Tab order
-- (tabindex="0") for a keyboard to scroll them (WCAG 2.1.1). The sanitizer sets this on what it
-- cleans from now on; posts and revisions stored before get it here. Stored HTML is the
-- sanitizer's serialization, in which `<` is escaped in text and in attribute values alike, so
-- `<pre>` and `<table>` occur only as tags.
UPDATE posts SET body_html = REPLACE(REPLACE(body_html, '<pre>', '<pre tabindex="0">'), '<table>', '<table tabindex="0">')
  WHERE body_html LIKE '%<pre>%' OR body_html LIKE '%<table>%';
UPDATE post_revisions SET body_html = REPLACE(REPLACE(body_html, '<pre>', '<pre tabindex="0">'), '<table>', '<table tabindex="0">')
  WHERE body_html LIKE '%<pre>%' OR body_html LIKE '%<table>%';
