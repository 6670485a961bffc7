//! A throwaway Postgres database per test.

use sqlx::Connection;

/// Postgres on this machine (trust auth); `WEFT_TEST_PG` overrides.
pub fn pg_admin_url() -> String {
    std::env::var("WEFT_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh Postgres database, dropped when the guard goes.
pub struct PgDb {
    name: String,
}

impl PgDb {
    /// A new database and its URL.
    pub async fn create() -> (PgDb, String) {
        let name = format!(
            "weft_store_it_{}_{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let mut admin = sqlx::PgConnection::connect(&pg_admin_url())
            .await
            .expect("Postgres must run on 127.0.0.1:5432");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let base = pg_admin_url();
        let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
        (PgDb { name }, url)
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&pg_admin_url()).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join()
        .unwrap();
    }
}
