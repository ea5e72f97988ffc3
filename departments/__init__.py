"""What goes to the departments: their failure reports and digests."""
