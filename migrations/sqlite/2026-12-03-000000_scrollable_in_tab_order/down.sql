UPDATE posts SET body_html = REPLACE(REPLACE(body_html, '<pre tabindex="0">', '<pre>'), '<table tabindex="0">', '<table>');
UPDATE post_revisions SET body_html = REPLACE(REPLACE(body_html, '<pre tabindex="0">', '<pre>'), '<table tabindex="0">', '<table>');
