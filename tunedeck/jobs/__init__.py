"""Fine-tuning jobs: idempotent submission, reconciliation after a crash, and the monitor that polls them."""
