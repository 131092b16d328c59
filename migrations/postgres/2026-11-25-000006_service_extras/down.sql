ALTER TABLE services DROP COLUMN icon;
ALTER TABLE services DROP COLUMN icon_type;
ALTER TABLE services DROP COLUMN attribute_release;
