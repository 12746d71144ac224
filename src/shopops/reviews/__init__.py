"""Reviews and UGC (F-14): ratings and reviews with photos, moderation, 晒单有奖 rewards,
review requests after delivery, shop replies and product rating summaries."""
