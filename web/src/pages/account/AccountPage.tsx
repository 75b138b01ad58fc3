import { useState } from "react";

import { PageHeader } from "@/components/layout/Layout";
import { Button } from "@/components/ui/button";
import { signOut, type User, useSession } from "@/lib/auth";

import { DeleteAccountCard } from "./DeleteAccountCard";
import { DevicesCard } from "./DevicesCard";
import { ProfileCard } from "./ProfileCard";
import { ChangeEmailCard, ChangePasswordCard } from "./SecurityCards";

export default function AccountPage() {
  const { data } = useSession();
  // Bumped after a password change, which signs the other devices out server-side.
  const [devicesVersion, setDevicesVersion] = useState(0);
  if (!data) return null; // the app's session gate has already sent a signed-out visitor away
  const user = data.user as User;

  return (
    <>
      <PageHeader
        title="Account"
        description="Your profile, sign-in and devices."
        actions={
          <Button variant="outline" onClick={() => void signOut()}>
            Sign out
          </Button>
        }
      />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        <div className="grid grid-cols-1 content-start gap-6">
          <ProfileCard user={user} />
          <ChangeEmailCard currentEmail={user.email} />
        </div>
        <ChangePasswordCard onChanged={() => setDevicesVersion((v) => v + 1)} />
        <div className="lg:col-span-2">
          <DevicesCard currentSessionId={String(data.session.id)} reloadKey={devicesVersion} />
        </div>
        <div className="lg:col-span-2">
          <DeleteAccountCard />
        </div>
      </div>
    </>
  );
}
