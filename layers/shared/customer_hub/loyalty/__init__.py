"""The shopper's loyalty view: snapshots of Smile data, states, best/next reward, ways to earn."""
