-- Purposes (product.md §3): one registration per (hetu, purpose) with its own
-- customer_ref, DVV asked once per hetu; muu and added purposes need their
-- permit description (vtj.status.warning until then); disabled purposes and
-- tyontekija refused on every path; purpose changes in the admin log.
BEGIN;
SELECT plan(33);

CREATE ROLE vtj_t_admin NOLOGIN IN ROLE vtj_admin;
SET LOCAL ROLE vtj_t_admin;

-- ------------------------------------------------------------- one row per (hetu, purpose)
SELECT is(vtj.add_person('010180-9015', 'laskutus', 'L-1'), true, 'registered for laskutus');
SELECT is(vtj.add_person('010180-9015', 'vesilaitos', 'V-1'), true, 'and for vesilaitos');
SELECT is(vtj.add_person('010180-9015', 'vesilaitos', 'V-1'), false, 'the same pair again is not new');
SELECT results_eq($$SELECT purpose COLLATE "default", customer_ref FROM vtj.register ORDER BY 1$$,
                  $$VALUES ('laskutus', 'L-1'), ('vesilaitos', 'V-1')$$,
                  'one register row per purpose, each with its own customer_ref');
RESET ROLE;
SELECT is((SELECT count(*) FROM vtj.subject), 1::bigint, 'one hetu for DVV');
SELECT is(vtj._hetulist(), ARRAY['010180-9015'], 'the hetulist sent to DVV holds it once');
SET LOCAL ROLE vtj_t_admin;
SELECT is(vtj.remove_person('010180-9015', 'laskutus'), true, 'ending one registration');
RESET ROLE;
SELECT is((SELECT count(*) FROM vtj.subject), 1::bigint, '... keeps the hetu while another purpose holds it');
SET LOCAL ROLE vtj_t_admin;
SELECT is(vtj.remove_person('010180-9015', 'vesilaitos'), true, 'ending the last one');
RESET ROLE;
SELECT is((SELECT count(*) FROM vtj.subject), 0::bigint, '... removes the hetu from the list sent to DVV');

-- ------------------------------------------------------------- descriptions and vtj.status
SELECT is((SELECT warning FROM vtj._purpose_warning), NULL, 'no purpose warning after install (muu unused)');
SELECT is((SELECT warning FROM vtj.status), NULL, 'vtj.status has no warning on an empty register');
SET LOCAL ROLE vtj_t_admin;
SELECT is(vtj.add_person('020281-902W', 'muu'), true, 'muu can be used before its description is given');
RESET ROLE;
SELECT is((SELECT warning FROM vtj._purpose_warning),
          'purpose muu lacks the description given in the permit application: set it with vtj.set_purpose()',
          'then a warning names it');
SELECT ok((SELECT warning FROM vtj.status) LIKE '%purpose muu lacks the description given in the permit application%',
          '... in vtj.status.warning');
SET LOCAL ROLE vtj_t_admin;
SELECT is(vtj.set_purpose('kirjasto', legal_basis => 'Kirjastolaki 1492/2016'), true, 'a purpose added without a description');
RESET ROLE;
SELECT is((SELECT warning FROM vtj._purpose_warning),
          'purpose kirjasto, muu lacks the description given in the permit application: set it with vtj.set_purpose()',
          'an added purpose warns even before it is used');
SET LOCAL ROLE vtj_t_admin;
SELECT is(vtj.set_purpose('muu', 'Kansalaisopiston kurssirekisteri (lupahakemus 2025)'), false, 'muu gets its description');
SELECT is(vtj.set_purpose('kirjasto', enabled => false), false, 'kirjasto is disabled');
RESET ROLE;
SELECT is((SELECT warning FROM vtj._purpose_warning), NULL, 'described or disabled: no warning');
SELECT is((SELECT warning FROM vtj.status), 'no successful run yet; no kirjausavain has been obtained yet',
          'vtj.status keeps only its own warnings');

-- ------------------------------------------------------------- disabled and refused purposes
SET LOCAL ROLE vtj_t_admin;
SELECT throws_ok($$SELECT vtj.add_person('030382-903M', 'kirjasto')$$, '22023', 'purpose "kirjasto" is disabled',
                 'add_person refuses a disabled purpose');
SELECT throws_ok($$SELECT vtj.add_persons(ARRAY['030382-903M'], 'kirjasto')$$, '22023', 'purpose "kirjasto" is disabled',
                 'add_persons refuses a disabled purpose');
INSERT INTO vtj.import (hetu) VALUES ('030382-903M');
SELECT throws_ok($$SELECT vtj.import_persons('kirjasto')$$, '22023', 'purpose "kirjasto" is disabled',
                 'import_persons refuses a disabled purpose');
SELECT is((SELECT count(*) FROM vtj.import), 1::bigint, '... and keeps the rows');
SELECT throws_ok($$SELECT vtj.import_persons('tyontekija')$$, '22023', NULL, 'import_persons refuses tyontekija');
SELECT throws_ok($$SELECT vtj.add_persons(ARRAY['030382-903M'], 'Tyontekijat')$$, '22023', NULL,
                 'add_persons refuses employees in any spelling');
SELECT throws_ok($$SELECT vtj.set_purpose('tyontekijarekisteri', 'x')$$, '22023', NULL, 'no purpose for employees can be added');
SELECT is(vtj.remove_person('020281-902W', 'muu'), true, 'a registration can be ended whatever the purpose''s state');
RESET ROLE;

-- ------------------------------------------------------------- admin log of purpose changes
SELECT results_eq(
    $$SELECT action COLLATE "default", purpose COLLATE "default", logged_by::text COLLATE "default", detail->'after'->>'enabled', detail->'before'->>'enabled'
        FROM vtj.admin_log WHERE action LIKE 'purpose%' ORDER BY id$$,
    $$VALUES ('purpose_add', 'kirjasto', 'postgres', 'true', NULL),
             ('purpose_change', 'muu', 'postgres', 'true', 'true'),
             ('purpose_change', 'kirjasto', 'postgres', 'false', 'true')$$,
    'every purpose change is in the admin log with the session user and the values before and after');
SELECT is((SELECT detail->'after'->>'description' FROM vtj.admin_log WHERE action = 'purpose_change' AND purpose = 'muu'),
          'Kansalaisopiston kurssirekisteri (lupahakemus 2025)', '... including the description');
SELECT is((SELECT count(*) FROM vtj.admin_log WHERE action = 'purpose_add' AND purpose = 'tyontekijarekisteri'), 0::bigint,
          'a refused change writes nothing');
SELECT is((SELECT count(*) FROM vtj.admin_log WHERE action = 'register' AND purpose = 'kirjasto'), 0::bigint,
          'a refused registration writes nothing');

SELECT * FROM finish();
ROLLBACK;
