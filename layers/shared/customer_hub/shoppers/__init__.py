"""What a shopper sees and does outside a redemption: their loyalty data as read, their coupons."""
