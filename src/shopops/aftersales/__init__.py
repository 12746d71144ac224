"""aftersales domain."""
