//! [`FakeStore`]: the findings store in memory, with the same conditional-write semantics as DynamoDB.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::store::{FindingsStore, ListFilter, PutOutcome};
use crate::AwsError;
use tripline_core::lifecycle::{LifecycleItem, LifecycleKey};

/// Items by (partition, rule); every conditional write counted.
#[derive(Debug, Default)]
pub struct FakeStore {
    pub items: Mutex<BTreeMap<(String, String), LifecycleItem>>,
    /// Writes accepted and refused (version conflicts).
    pub written: Mutex<u64>,
    pub conflicts: Mutex<u64>,
    /// Reads: `get` (one item) and `resource_items` (a resource's items) calls.
    pub gets: Mutex<u64>,
    pub queries: Mutex<u64>,
    /// When set, every call fails with this error.
    pub fail: Mutex<Option<AwsError>>,
}

impl FakeStore {
    fn check(&self) -> Result<(), AwsError> {
        match &*self.fail.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Every item, in key order.
    pub fn all(&self) -> Vec<LifecycleItem> {
        self.items
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }
}

impl FindingsStore for FakeStore {
    async fn get(&self, key: &LifecycleKey) -> Result<Option<LifecycleItem>, AwsError> {
        self.check()?;
        *self.gets.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        // Let concurrent callers interleave between the read and the write, as over the network.
        tokio::task::yield_now().await;
        let items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        Ok(items.get(&(key.partition(), key.rule.clone())).cloned())
    }

    async fn put(&self, item: &LifecycleItem) -> Result<PutOutcome, AwsError> {
        self.check()?;
        tokio::task::yield_now().await;
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        let k = (item.key.partition(), item.key.rule.clone());
        let current = items.get(&k).map(|i| i.version);
        let ok = match current {
            None => item.version <= 1,
            Some(v) => item.version > 1 && v == item.version - 1,
        };
        if ok {
            items.insert(k, item.clone());
            *self.written.lock().unwrap_or_else(|p| p.into_inner()) += 1;
            Ok(PutOutcome::Written)
        } else {
            *self.conflicts.lock().unwrap_or_else(|p| p.into_inner()) += 1;
            Ok(PutOutcome::Conflict)
        }
    }

    async fn resource_items(
        &self,
        account: &str,
        resource_arn: &str,
    ) -> Result<Vec<LifecycleItem>, AwsError> {
        self.check()?;
        *self.queries.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        let pk = tripline_core::lifecycle::partition_key(account, resource_arn);
        let items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        Ok(items
            .iter()
            .filter(|((p, _), _)| *p == pk)
            .map(|(_, i)| i.clone())
            .collect())
    }

    async fn list(&self, filter: &ListFilter) -> Result<Vec<LifecycleItem>, AwsError> {
        self.check()?;
        Ok(self.all().into_iter().filter(|i| filter.matches(i)).collect())
    }
}
