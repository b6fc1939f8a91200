"""Who is asking and what they may see: tokens, the policy table, row scope."""
