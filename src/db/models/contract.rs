//! The `contract_settings` table: the contract details the contractor keeps
//! (company, the contact shown on 問い合わせ).

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::contract_settings;
use crate::db::{write_tx, DbConn, DbError};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Contract {
    pub company_name: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub contact_note: String,
}

const FIELDS: [&str; 5] = [
    "company_name",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contact_note",
];

pub fn load(conn: &mut DbConn) -> Result<Contract, DbError> {
    let rows: Vec<(String, String)> = contract_settings::table
        .select((contract_settings::name, contract_settings::value))
        .load(conn)?;
    let get = |k: &str| {
        rows.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    Ok(Contract {
        company_name: get("company_name"),
        contact_name: get("contact_name"),
        contact_email: get("contact_email"),
        contact_phone: get("contact_phone"),
        contact_note: get("contact_note"),
    })
}

pub fn save(conn: &mut DbConn, c: &Contract) -> Result<(), DbError> {
    let values = [
        &c.company_name,
        &c.contact_name,
        &c.contact_email,
        &c.contact_phone,
        &c.contact_note,
    ];
    write_tx(conn, |conn| {
        diesel::delete(contract_settings::table).execute(conn)?;
        for (name, value) in FIELDS.iter().zip(values) {
            diesel::insert_into(contract_settings::table)
                .values((
                    contract_settings::name.eq(*name),
                    contract_settings::value.eq(value),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}
